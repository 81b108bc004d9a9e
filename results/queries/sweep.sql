-- A metric against the swept value (`triglav-sim run --sweep`): mean efficiency, goodput, p95 delay and failover per value and strategy (:scenario narrows it).
-- Rows in the order of the values on the command line; `triglav-sim report DB --sweep` draws the same with 95% confidence intervals.
SELECT r.scenario, s.key, s.position, s.value, r.strategy, r.aggregation,
       count(*) AS runs,
       round(avg(m.efficiency), 4) AS efficiency,
       round(avg(m.goodput_mbps), 2) AS goodput_mbps,
       round(avg(m.owd_p95_ms), 1) AS owd_p95_ms,
       round(avg(m.failover_max_ms), 1) AS failover_max_ms
FROM sweeps s JOIN runs r ON r.id = s.run_id JOIN metrics m ON m.run_id = r.id
WHERE (:scenario IS NULL OR r.scenario = :scenario)
GROUP BY r.scenario, s.key, s.position, r.strategy, r.aggregation
ORDER BY r.scenario, s.key, r.aggregation, s.position, r.strategy;
