"""Running a scenario: the starting state, the chunked integration loop and the result."""
