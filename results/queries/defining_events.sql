-- Did each scenario's defining event happen? Share of runs with it, and every scenario event's occurrences and time per run.
-- An event is counted once per environment (iteration), not once per strategy: all strategies of an iteration meet the same events.
WITH env AS (
    SELECT DISTINCT r.scenario, r.scenario_hash, r.iteration, r.seed,
           m.defining_events
    FROM runs r JOIN metrics m ON m.run_id = r.id
    WHERE :scenario IS NULL OR r.scenario = :scenario
), ev AS (
    SELECT r.scenario, e.name, r.iteration, r.seed,
           max(e.occurrences) AS occurrences, max(e.total_s) AS total_s
    FROM runs r JOIN event_counts e ON e.run_id = r.id
    WHERE :scenario IS NULL OR r.scenario = :scenario
    GROUP BY r.scenario, r.scenario_hash, e.name, r.iteration, r.seed
)
SELECT env.scenario,
       count(*) AS environments,
       round(avg(env.defining_events > 0), 3) AS share_with_defining_event,
       round(avg(env.defining_events), 2) AS defining_per_run,
       (SELECT group_concat(name || ' ' || round(occ, 2) || 'x/' || round(secs, 1) || 's', ', ')
          FROM (SELECT name, avg(occurrences) AS occ, avg(total_s) AS secs
                FROM ev WHERE ev.scenario = env.scenario GROUP BY name)) AS events_per_run
FROM env
GROUP BY env.scenario
ORDER BY env.scenario;
