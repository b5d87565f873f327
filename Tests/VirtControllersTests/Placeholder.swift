import Testing
@Test func placeholderControllers() {}
