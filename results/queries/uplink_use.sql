-- How each strategy spreads traffic over the uplinks: share of delivered bytes, drops and time down per uplink (:scenario, :run narrow it).
-- Bytes are outer (tunnel) bytes the link delivered, both directions; :run keeps only the environment of that run (same iteration and seed).
WITH u AS (
    SELECT r.id AS run_id, r.scenario, r.strategy, r.aggregation, r.scenario_hash, r.iteration, r.seed,
           x.uplink, x.name,
           coalesce(x.delivered_up_bytes, 0) + coalesce(x.delivered_down_bytes, 0) AS bytes,
           coalesce(x.drops_up_pkts, 0) + coalesce(x.drops_down_pkts, 0) AS drops,
           x.down_ms
    FROM runs r JOIN uplink_results x ON x.run_id = r.id
    WHERE (:scenario IS NULL OR r.scenario = :scenario)
      AND (:run IS NULL OR (r.scenario_hash, r.iteration, r.seed) =
           (SELECT scenario_hash, iteration, seed FROM runs WHERE id = :run))
), t AS (
    SELECT run_id, sum(bytes) AS total FROM u GROUP BY run_id
)
SELECT u.scenario, u.strategy, u.aggregation, u.uplink, u.name,
       count(*) AS runs,
       round(avg(u.bytes) / 1e6, 2) AS delivered_mb,
       round(100.0 * sum(u.bytes) / nullif(sum(t.total), 0), 1) AS share_pct,
       round(avg(u.drops)) AS drops_pkts,
       round(avg(u.down_ms) / 1000, 1) AS down_s
FROM u JOIN t USING (run_id)
GROUP BY u.scenario, u.strategy, u.aggregation, u.uplink
ORDER BY u.scenario, u.strategy, u.aggregation, u.uplink;
