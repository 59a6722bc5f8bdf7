-- Central server, schema 1: sites and their tokens, the uplinked event log of every
-- office, heartbeats, daily reports, and a per-ticket projection for the dashboard.

CREATE TABLE sites (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    token_hash  text NOT NULL UNIQUE,      -- sha256 of the token; the token is shown once
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Every event exactly once per (site, seq): a resent batch changes nothing.
CREATE TABLE events (
    site        text NOT NULL REFERENCES sites (id),
    seq         bigint NOT NULL,
    type        text NOT NULL,
    at          text NOT NULL,             -- as the kiosk wrote it (UTC, ms)
    day         date,
    code        text,
    body        jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, seq)
);
CREATE INDEX events_site_day_type ON events (site, day, type);

-- A different event under a seq already held: a kiosk restored from a backup.
CREATE TABLE conflicts (
    site        text NOT NULL,
    seq         bigint NOT NULL,
    at          text NOT NULL,
    body        jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, seq, at)
);

CREATE TABLE heartbeats (
    site        text PRIMARY KEY REFERENCES sites (id),
    received_at timestamptz NOT NULL,
    body        jsonb NOT NULL
);

CREATE TABLE reports (
    site        text NOT NULL REFERENCES sites (id),
    day         date NOT NULL,
    received_at timestamptz NOT NULL,
    body        jsonb NOT NULL,
    PRIMARY KEY (site, day)
);

-- One row per ticket, folded from the events in the same transaction that stores them.
CREATE TABLE tickets (
    site        text NOT NULL,
    day         date NOT NULL,
    ticket_id   bigint NOT NULL,
    code        text NOT NULL,
    service     text NOT NULL,
    priority    boolean NOT NULL DEFAULT false,
    issued_at   timestamptz NOT NULL,
    called_at   timestamptz,
    ended_at    timestamptz,
    state       text NOT NULL DEFAULT 'waiting',  -- waiting, called, served, no_show, expired
    counter     integer,
    rating      integer,
    rating_scale integer,
    PRIMARY KEY (site, day, ticket_id)
);
CREATE INDEX tickets_waiting ON tickets (site, day) WHERE state = 'waiting';

-- People who may read the dashboard and /metrics (HTTP Basic over TLS); scrypt hashes.
CREATE TABLE users (
    name        text PRIMARY KEY,
    pw_hash     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
