-- Live runs (scripts/testnet.sh) beside their simulated twins, one row per pair: goodput and voice one-way delay, live, simulated and live/sim (:scenario narrows it).
-- The rows behind `triglav-sim report DB --fidelity`, which adds the mean ratio per group with its 95% confidence interval.
WITH sim AS (
    SELECT r.id, r.scenario_hash, r.strategy, r.aggregation, r.iteration, r.seed,
           (SELECT sum(goodput_mbps) FROM flow_results WHERE run_id = r.id AND kind = 'tcp') AS goodput_mbps,
           (SELECT avg(owd_p50_ms) FROM flow_results WHERE run_id = r.id AND kind = 'voice') AS owd_p50_ms,
           (SELECT avg(owd_p95_ms) FROM flow_results WHERE run_id = r.id AND kind = 'voice') AS owd_p95_ms
    FROM runs r
)
SELECT l.scenario, l.strategy, l.aggregation, l.iteration, printf('%016x', l.seed) AS seed_hex,
       round(l.goodput_mbps, 3) AS live_goodput_mbps, round(s.goodput_mbps, 3) AS sim_goodput_mbps,
       round(l.goodput_mbps / s.goodput_mbps, 3) AS goodput_ratio,
       round(l.owd_p50_ms, 2) AS live_owd_p50_ms, round(s.owd_p50_ms, 2) AS sim_owd_p50_ms,
       round(l.owd_p50_ms / s.owd_p50_ms, 3) AS owd_p50_ratio,
       round(l.owd_p95_ms, 2) AS live_owd_p95_ms, round(s.owd_p95_ms, 2) AS sim_owd_p95_ms,
       round(l.owd_p95_ms / s.owd_p95_ms, 3) AS owd_p95_ratio
FROM live_runs l
JOIN sim s ON s.scenario_hash = l.scenario_hash AND s.strategy = l.strategy
          AND s.aggregation = l.aggregation AND s.iteration = l.iteration AND s.seed = l.seed
WHERE (:scenario IS NULL OR l.scenario = :scenario)
ORDER BY l.scenario, l.strategy, l.aggregation, l.iteration;
