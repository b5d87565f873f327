import Testing
@Test func placeholderVirtRuntime() {}
