"""One adapter per channel, all with the interface of :mod:`sampan.messaging.channels.base`."""
