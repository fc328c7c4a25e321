"""The platform-neutral core: events in, replies out, one router between them."""
