"""The web form channel: complaints posted to the daemon's HTTP intake."""
