-- Delay tails: one-way delay p50/p95/p99 and jitter per scenario and strategy, mean over runs and the worst run (:scenario narrows to one).
SELECT r.scenario, r.strategy, r.aggregation, count(*) AS runs,
       round(avg(m.owd_p50_ms), 1) AS p50_ms,
       round(avg(m.owd_p95_ms), 1) AS p95_ms,
       round(avg(m.owd_p99_ms), 1) AS p99_ms,
       round(max(m.owd_p99_ms), 1) AS p99_worst_ms,
       round(avg(m.jitter_ms), 2) AS jitter_ms,
       round(avg(m.reorder_peak_pkts)) AS reorder_peak_pkts
FROM runs r JOIN metrics m ON m.run_id = r.id
WHERE :scenario IS NULL OR r.scenario = :scenario
GROUP BY r.scenario, r.strategy, r.aggregation
ORDER BY r.scenario, p95_ms;
