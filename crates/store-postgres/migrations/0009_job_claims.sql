-- Job claims (see `claim_jobs`): due queued jobs are read in (run_at, id) order straight from
-- this index, stopping at the claim's limit, instead of sorting every due job on each claim;
-- expired leases have their own small index.
CREATE INDEX jobs_queued_due_idx ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_running_lease_idx ON jobs (lease_expires_at) WHERE state = 'running';
