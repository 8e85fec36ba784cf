"""Accounts: creating them, registering and confirming an address, changing it, and the
address syntax every form shares."""
