//! The building's year: at its last moment residents' satisfaction is taken; once
//! December's service outcome is in, residents take up the app — with outreach if the model does it, else at the
//! background rate — and the host writes the year's [`BuildingYear`] report.

use super::BuildingHost;
use crate::agents::Ctx;
use crate::ledger::{BuildingYear, DeviceYear, YearReport};
use civitas_twin::kinds::DeviceKind;
use civitas_twin::rng;
use std::collections::BTreeMap;

impl BuildingHost {
    /// The year's last moment (local midnight): residents' satisfaction as it stands, the
    /// year's satisfaction. December's service outcome, which arrives hours later, moves
    /// the next year's — so a run that ends at the year's end reports in `summary.json`
    /// the satisfaction the comparison reports for that year.
    pub(super) fn year_satisfaction(&mut self) {
        for r in &self.residents {
            self.year.residents += 1;
            self.year.satisfaction_sum += r.satisfaction as f64;
            if r.age >= 60 {
                self.year.elderly += 1;
                self.year.satisfaction_elderly_sum += r.satisfaction as f64;
            }
        }
    }

    /// Year `y` (1-based) ends: adoption, then the year's report.
    pub(super) fn year_end(&mut self, ctx: &mut Ctx<'_>, y: u32) {
        let a = &self.context.params.economy.adoption;
        let (young, old) = if self.outreach {
            (a.outreach_under60, a.outreach_60plus)
        } else {
            (a.background, a.background)
        };
        for r in &mut self.residents {
            if !r.uses_app && r.age >= 10 {
                let p = if r.age >= 60 { old } else { young };
                r.uses_app = rng::chance(&mut r.rng, p);
            }
        }
        self.settle_devices(ctx.now);
        let mut report = std::mem::replace(
            &mut self.year,
            BuildingYear {
                community: self.community,
                building: self.building,
                ..BuildingYear::default()
            },
        );
        report.year = y - 1;
        for r in &self.residents {
            if r.uses_app {
                report.app_users += 1;
                if r.age >= 60 {
                    report.app_users_elderly += 1;
                }
            }
        }
        let mut by_kind: BTreeMap<DeviceKind, DeviceYear> = BTreeMap::new();
        for d in &mut self.devices {
            let e = by_kind.entry(d.kind).or_default();
            e.count += 1;
            e.marketable = d.marketable;
            e.working_secs += std::mem::take(&mut d.working_secs);
            e.used_secs += std::mem::take(&mut d.used_secs);
        }
        report.devices = by_kind.into_iter().collect();
        ctx.journal
            .report(ctx.now, YearReport::Building(Box::new(report)));
    }
}
