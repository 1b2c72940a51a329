-- Operators: people who may watch the whole platform live (/ops, the metrics:ops room, /api/ops/*).
-- A role on top of any portal, granted and revoked only from the command line
-- (`pitchey operator add|remove EMAIL`), never over the API: nobody can make themselves one.
-- Every check reads this table (sessions re-check once a second while they watch), so a removal
-- holds on live sessions at once, on every node.
CREATE TABLE operators (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    granted_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
