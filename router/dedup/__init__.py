"""Grouping: resends, the same citizen on another channel, and many citizens reporting one incident."""
