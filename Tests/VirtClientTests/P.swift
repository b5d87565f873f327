import Testing
@Test func placeholderClient() {}
