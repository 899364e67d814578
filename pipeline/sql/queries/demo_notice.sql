-- `ratedeck demo`: announced voice changes (dated after the fetch that first saw them) and
-- increases announced with less notice than $notice_days (report.notice_days), counted as the
-- finance report flags them: an increase in a dated deck (or announced ahead) under the notice.
-- A withdrawal is not an announcement (its announced_at is when the withdrawal was seen).
SELECT count(*) FILTER (WHERE changed_at > announced_at) AS announced,
       min(effective_at) FILTER (WHERE changed_at > announced_at) AS earliest_effective_at,
       count(*) FILTER (
           WHERE change_type = 'increase'
             AND (changed_at > announced_at OR stated_effective_at IS NOT NULL)
             AND notice_days < $notice_days
       ) AS short_notice_increases,
       min(notice_days) FILTER (
           WHERE change_type = 'increase' AND changed_at > announced_at
       ) AS least_notice_days
FROM voice_rate_change
WHERE change_type <> 'withdrawn'
  AND withdrawn_at IS NULL;  -- announced, then taken back: not an announcement that stands
