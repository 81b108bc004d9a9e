-- How to rerun one run (:run, a runs.id) on its own: the command line that recomputes it, bit for bit.
-- The iteration's seed derives from (base seed, scenario name, iteration), so the command runs iterations 0..i; the run is the last one. A swept run (`run --sweep`) gets its one value back.
SELECT r.id, r.scenario, r.strategy, r.aggregation, r.iteration,
       printf('%016x', r.seed) AS seed_hex, r.version,
       'triglav-sim run ' || r.scenario_file
         || ' --seed ' || (SELECT CASE WHEN s.base_seed >= 0 THEN s.base_seed ELSE printf('0x%016x', s.base_seed) END
                           FROM campaign_scenarios s
                           WHERE s.campaign_id = r.campaign_id AND s.scenario_hash = r.scenario_hash)
         || ' --iterations ' || (r.iteration + 1)
         || ' --strategy ' || r.strategy || ' --aggregation ' || r.aggregation
         || coalesce((SELECT ' --sweep ''' || replace(sw.key || '=' || sw.value, '''', '''\''''')
                             || '''' FROM sweeps sw WHERE sw.run_id = r.id), '')
         || ' --db /tmp/rerun.db' AS command
FROM runs r
WHERE r.id = coalesce(:run, (SELECT min(id) FROM runs));
