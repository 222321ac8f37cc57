//! Services: at the end of every month each household asks for value-added services —
//! a Poisson number per kind, by age, income and price, within its budget — through the
//! app if someone in it uses the app and the platform operates, else through
//! traditional channels; the host sends the month's requests to the platform, and the
//! platform's reply (the shares served, and how well) moves satisfaction.

use super::{BuildingHost, Timer};
use crate::agents::Ctx;
use crate::message::{Demand, Payload, SERVICES};
use civitas_twin::kinds::{Region, ServiceKind};
use civitas_twin::rng::EntityRng;
use rand::Rng;

impl BuildingHost {
    /// The platform says whether it operates, at what prices and which services it offers.
    pub(super) fn platform_status(
        &mut self,
        ctx: &mut Ctx<'_>,
        operating: bool,
        prices: [f32; SERVICES],
        offered: [bool; SERVICES],
    ) {
        self.offered = offered;
        if operating != self.platform_operating {
            self.settle_devices(ctx.now);
            self.platform_operating = operating;
        }
        self.prices = prices;
    }

    /// A month ends: each household's service requests, by channel.
    pub(super) fn month_end(&mut self, ctx: &mut Ctx<'_>, m: u32) {
        let e = &self.context.params.economy;
        let income = match self.region {
            Region::Developed => e.residents.income_developed,
            Region::LessDeveloped => e.residents.income_less_developed,
        };
        let income_factor =
            (income / e.residents.income_developed.max(1e-9)).powf(e.residents.income_elasticity);
        let mut demand = Demand::default();
        self.asked.clear();
        for h in 0..self.households.len() {
            let (elderly, members) = {
                let hh = &self.households[h];
                (hh.elderly, hh.residents.len() as f64)
            };
            let range = self.households[h].residents.clone();
            let app = self.platform_operating
                && (range.start..range.end)
                    .any(|r| self.residents[(r - self.res_base) as usize].uses_app);
            let budget = e.residents.max_service_share * income * members;
            let mut counts = [0u32; SERVICES];
            let mut spend = 0.0;
            for (i, k) in ServiceKind::ALL.iter().enumerate() {
                if !self.offered[i] {
                    continue;
                }
                let s = &e.services[k];
                let base = if elderly {
                    s.demand_elderly
                } else {
                    s.demand_young
                };
                let lambda =
                    base * income_factor * (self.prices[i] as f64).powf(-e.market.price_elasticity);
                let n = poisson(&mut self.households[h].rng, lambda);
                counts[i] = n;
                spend += n as f64 * s.price * self.prices[i] as f64;
            }
            if spend > budget && spend > 0.0 {
                let scale = budget / spend;
                for c in &mut counts {
                    *c = (*c as f64 * scale).floor() as u32;
                }
            }
            let total: u32 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            self.asked.push((h as u32, app, total));
            let (all, old) = if app {
                (&mut demand.app, &mut demand.app_elderly)
            } else {
                (&mut demand.traditional, &mut demand.traditional_elderly)
            };
            for (i, n) in counts.iter().enumerate() {
                all[i] += n;
                if elderly {
                    old[i] += n;
                }
            }
            self.year.requested += total as u64;
            if elderly {
                self.year.requested_elderly += total as u64;
            }
        }
        ctx.send(self.platform, 0, Payload::ServiceDemand(Box::new(demand)));
        let at = self.context.calendar.month_start(m);
        let year = self.context.calendar.year_index(at);
        if year > self.context.calendar.year_index(at - 1) {
            // The year's satisfaction is taken now; the year closes once December's
            // outcome is in.
            self.year_satisfaction();
            self.year_end_due = Some(year);
        }
        self.timers.push(
            self.context.calendar.month_start(m + 1),
            Timer::MonthEnd(m + 1),
        );
    }

    /// The platform says what share of this month's requests were served.
    pub(super) fn service_outcome(
        &mut self,
        app: f32,
        traditional: f32,
        app_quality: f32,
        traditional_quality: f32,
    ) {
        let w = self.context.params.satisfaction.service_weight as f32;
        let asked = std::mem::take(&mut self.asked);
        for (h, by_app, uses) in asked {
            let (share, quality) = if by_app {
                (app, app_quality)
            } else {
                (traditional, traditional_quality)
            };
            let (range, elderly) = {
                let hh = &self.households[h as usize];
                (hh.residents.clone(), hh.elderly)
            };
            // The platform reports shares; a household's served uses follow from them.
            let served = (share as f64 * uses as f64).round() as u64;
            self.year.served += served;
            if elderly {
                self.year.served_elderly += served;
            }
            for r in range {
                let rs = &mut self.residents[(r - self.res_base) as usize];
                // Satisfied by what was served, as well as it was served.
                rs.satisfaction += w * (share * quality - rs.satisfaction);
            }
        }
    }
}

/// A Poisson draw (Knuth's method; means here are small).
fn poisson(rng: &mut EntityRng, lambda: f64) -> u32 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        // Normal approximation for large means.
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random::<f64>();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        return (lambda + z * lambda.sqrt()).round().max(0.0) as u32;
    }
    let limit = (-lambda).exp();
    let mut k = 0;
    let mut p = 1.0;
    loop {
        p *= rng.random::<f64>();
        if p <= limit {
            return k;
        }
        k += 1;
    }
}
