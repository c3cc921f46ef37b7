-- The in-flight count per endpoint that claim_deliveries checks against its cap: only the few
-- leased rows, instead of every pending row of the endpoint.
CREATE INDEX webhook_deliveries_endpoint_leased_idx
    ON webhook_deliveries (endpoint_id, lease_expires_at)
    WHERE status = 'pending' AND lease_expires_at IS NOT NULL;
