-- Claiming deliveries without ranking the whole backlog (see `webhooks::claim`): per enabled
-- endpoint, its oldest due pending deliveries are read in order from the first index, and the
-- deliveries it has in flight (pending, leased) are counted from the second, which holds only
-- the few leased rows.
CREATE INDEX webhook_deliveries_endpoint_due ON webhook_deliveries (endpoint_id, next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_leased ON webhook_deliveries (endpoint_id, lease_expires_at)
    WHERE status = 'pending' AND lease_expires_at IS NOT NULL;
