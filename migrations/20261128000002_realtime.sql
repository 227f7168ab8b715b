-- Realtime: which server instances are alive, and which users hold sockets on which of them.
-- A user is online while any live instance has a row for them; `users.last_seen_at` is stamped
-- when the last row goes.

CREATE TABLE server_instances (
    id           uuid        PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    -- Bumped every few seconds; an instance silent for long is presumed dead and swept.
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE presence (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    instance_id uuid NOT NULL REFERENCES server_instances (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, instance_id)
);
CREATE INDEX presence_instance_id_idx ON presence (instance_id);
