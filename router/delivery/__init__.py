"""Delivery: the dispatcher, outbox operations, forwarders, the LAPOR! wire and sync, answers to citizens."""
