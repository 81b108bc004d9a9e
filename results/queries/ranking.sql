-- Which strategy wins where: strategies per scenario by mean goodput, with stall, delay and loss (:scenario narrows to one).
-- Means only; `triglav-sim report` adds confidence intervals and paired tests.
SELECT scenario, strategy, aggregation, runs,
       rank() OVER (PARTITION BY scenario ORDER BY goodput_mbps DESC) AS rank,
       round(goodput_mbps, 2) AS goodput_mbps,
       round(efficiency, 3) AS efficiency,
       round(owd_p95_ms, 1) AS owd_p95_ms,
       round(stall_max_ms) AS stall_ms,
       round(stall_worst_ms) AS stall_worst_ms,
       round(loss, 4) AS loss,
       round(redundancy_overhead, 3) AS overhead
FROM strategy_summary
WHERE :scenario IS NULL OR scenario = :scenario
ORDER BY scenario, rank;
