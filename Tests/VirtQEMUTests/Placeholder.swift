import Testing
@Test func placeholderVirtQEMU() {}
