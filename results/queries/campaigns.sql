-- Campaign inventory: what this database holds, campaign by campaign: plan, runs stored, scenarios, seeds, software, command.
SELECT c.id, c.key, c.created, c.version,
       c.planned_runs AS planned,
       (SELECT count(*) FROM runs r WHERE r.campaign_id = c.id) AS stored,
       (SELECT group_concat(s.scenario || ' x' || s.iterations || ' seed ' || s.base_seed, ', ')
          FROM campaign_scenarios s WHERE s.campaign_id = c.id) AS scenarios,
       (SELECT round(sum(r.wall_s), 1) FROM runs r WHERE r.campaign_id = c.id) AS cpu_s,
       c.command
FROM campaigns c
ORDER BY c.id;
