-- Paired differences from adaptive (or :baseline): each strategy minus the baseline on the same environment draws (scenario, iteration, seed, aggregation).
-- Mean differences only; `triglav-sim report` gives their 95% confidence intervals.
WITH p AS (
    SELECT b.scenario, b.strategy, b.aggregation,
           b.goodput_mbps - a.goodput_mbps AS d_goodput,
           b.owd_p95_ms - a.owd_p95_ms AS d_owd_p95,
           b.stall_max_ms - a.stall_max_ms AS d_stall,
           b.loss - a.loss AS d_loss,
           b.redundancy_overhead - a.redundancy_overhead AS d_overhead,
           b.goodput_mbps > a.goodput_mbps AS wins
    FROM paired a JOIN paired b ON b.pair = a.pair AND b.aggregation = a.aggregation
    WHERE a.strategy = coalesce(:baseline, 'adaptive') AND b.strategy <> a.strategy
      AND (:scenario IS NULL OR a.scenario = :scenario)
)
SELECT scenario, strategy, aggregation, count(*) AS pairs,
       round(avg(d_goodput), 3) AS d_goodput_mbps,
       round(avg(wins), 2) AS share_higher_goodput,
       round(avg(d_owd_p95), 1) AS d_owd_p95_ms,
       round(avg(d_stall)) AS d_stall_ms,
       round(avg(d_loss), 4) AS d_loss,
       round(avg(d_overhead), 3) AS d_overhead
FROM p
GROUP BY scenario, strategy, aggregation
ORDER BY scenario, d_goodput_mbps DESC;
