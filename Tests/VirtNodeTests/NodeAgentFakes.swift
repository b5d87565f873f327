// Fakes of the node agent's runtimes, for its unit tests.
