-- Schema 2: per office and day, the counts the dashboard shows, kept up to date in the
-- same transaction that folds each event into `tickets`, so the dashboard reads one row
-- per office instead of scanning the day's tickets (300 offices × 30 days: p95 ≤ 300 ms).

CREATE TABLE day_counts (
    site        text NOT NULL,
    day         date NOT NULL,
    issued      integer NOT NULL DEFAULT 0,
    waiting     integer NOT NULL DEFAULT 0,
    called      integer NOT NULL DEFAULT 0,
    served      integer NOT NULL DEFAULT 0,
    no_show     integer NOT NULL DEFAULT 0,
    expired     integer NOT NULL DEFAULT 0,
    rated       integer NOT NULL DEFAULT 0,
    satisfied   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (site, day)
);

INSERT INTO day_counts (site, day, issued, waiting, called, served, no_show, expired, rated, satisfied)
SELECT site, day, COUNT(*),
       COUNT(*) FILTER (WHERE state = 'waiting'),
       COUNT(*) FILTER (WHERE state = 'called'),
       COUNT(*) FILTER (WHERE state = 'served'),
       COUNT(*) FILTER (WHERE state = 'no_show'),
       COUNT(*) FILTER (WHERE state = 'expired'),
       COUNT(rating),
       COUNT(*) FILTER (WHERE rating >= CASE rating_scale WHEN 5 THEN 4 ELSE 2 END)
FROM tickets GROUP BY site, day;

-- The longest wait now: the first waiting ticket of an office's day, from the index alone.
DROP INDEX tickets_waiting;
CREATE INDEX tickets_waiting ON tickets (site, day, issued_at) WHERE state = 'waiting';
