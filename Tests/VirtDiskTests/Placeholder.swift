import Testing
@Test func placeholderVirtDisk() {}
