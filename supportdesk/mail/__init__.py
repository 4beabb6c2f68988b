"""The email channel's plumbing, independent of tickets: `parsing` turns raw RFC 5322 bytes into an
`InboundMessage` (bodies, the reply part, attachments, machine-sent verdicts), `composing` builds
outgoing messages (threading headers, signed Message-IDs and reply addresses, the subject token).
Both are pure: no I/O, no clock, no database."""
