"""exodus audit: which of an account's photos expose people, and which a dataset already holds."""
