"""``omnichannel demo``: the whole flow on one machine with the sandboxes."""
