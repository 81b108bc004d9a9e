-- Failover stalls: how long traffic stopped when an uplink went down, per scenario and strategy (:scenario narrows to one).
-- failover_max_ms is NULL in runs where no uplink went down; those runs are counted apart.
SELECT r.scenario, r.strategy, r.aggregation,
       count(*) AS runs,
       count(m.failover_max_ms) AS runs_with_outage,
       round(avg(m.failovers), 1) AS failovers,
       round(avg(m.failover_max_ms)) AS failover_mean_ms,
       round(max(m.failover_max_ms)) AS failover_worst_ms,
       round(avg(m.stall_max_ms)) AS stall_mean_ms,
       round(max(m.stall_max_ms)) AS stall_worst_ms
FROM runs r JOIN metrics m ON m.run_id = r.id
WHERE :scenario IS NULL OR r.scenario = :scenario
GROUP BY r.scenario, r.strategy, r.aggregation
ORDER BY r.scenario, failover_mean_ms;
