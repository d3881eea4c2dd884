"""The HTTP side: the server, the officer API and pages, and the intake worker processes."""
