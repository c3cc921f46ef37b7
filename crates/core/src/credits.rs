//! Connection credits: what a connection costs from its connector's tier and its deployment.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where the customer's system runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Deployment {
    Cloud,
    OnPremise,
}

impl Deployment {
    pub fn as_str(self) -> &'static str {
        match self {
            Deployment::Cloud => "cloud",
            Deployment::OnPremise => "on_premise",
        }
    }

    pub fn parse(s: &str) -> Option<Deployment> {
        match s {
            "cloud" => Some(Deployment::Cloud),
            "on_premise" => Some(Deployment::OnPremise),
            _ => None,
        }
    }
}

/// Connector tiers: 1 simple cloud CMMS, 2 mid-size ERP, 3 SAP-class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    One = 1,
    Two = 2,
    Three = 3,
}

impl Tier {
    pub fn number(self) -> u8 {
        self as u8
    }
}

/// Tier 1 = 1 credit, tier 2 = 2, tier 3 = 4; on-premise doubles.
pub fn credits_for(tier: Tier, deployment: Deployment) -> i64 {
    let base = match tier {
        Tier::One => 1,
        Tier::Two => 2,
        Tier::Three => 4,
    };
    match deployment {
        Deployment::Cloud => base,
        Deployment::OnPremise => base * 2,
    }
}

/// The default pool of a new workspace.
pub const DEFAULT_CREDIT_LIMIT: i64 = 10;

/// A workspace's pool as `GET /credits` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreditUsage {
    pub limit: i64,
    pub used: i64,
    pub available: i64,
}

impl CreditUsage {
    pub fn new(limit: i64, used: i64) -> CreditUsage {
        CreditUsage {
            limit,
            used,
            available: (limit - used).max(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_and_deployments() {
        assert_eq!(credits_for(Tier::One, Deployment::Cloud), 1);
        assert_eq!(credits_for(Tier::Two, Deployment::OnPremise), 4);
        assert_eq!(credits_for(Tier::Three, Deployment::Cloud), 4);
        assert_eq!(credits_for(Tier::Three, Deployment::OnPremise), 8);
        assert_eq!(CreditUsage::new(10, 12).available, 0);
    }
}
