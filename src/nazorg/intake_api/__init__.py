"""The intake API: eerstedagsmeldingen over HTTP, for the PI (see :mod:`nazorg.intake_api.app`)."""
