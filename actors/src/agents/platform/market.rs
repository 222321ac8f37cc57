//! The service market a platform runs (the "service-matching platform", source 000): a
//! plain struct with no I/O. Each month it matches residents' requests to providers by
//! quality and price, and says what was paid and what share was served; each year
//! providers enter and exit on profit, market power moves prices, quality and the
//! platform's commission, and a regulator caps them and fines providers below the
//! quality floor. The [`super::Platform`] owns it, books the payments it returns and
//! tells the buildings the shares.

use crate::ledger::{Account, Purpose};
use crate::message::{Demand, SERVICES};
use civitas_twin::economy::{EconomyParams, ModelParams, cents};
use civitas_twin::kinds::{Party, ServiceKind};
use serde::{Deserialize, Serialize};

/// A rate that is not a number counts as zero.
fn rate(p: f64) -> f64 {
    if p.is_finite() { p } else { 0.0 }
}

/// One service provider on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(super) struct Provider {
    pub(super) price: f64,
    pub(super) quality: f64,
    pub(super) cash: i64,
    pub(super) loss_years: u32,
    pub(super) revenue: i64,
    pub(super) costs: i64,
    pub(super) served: u64,
}

impl Provider {
    fn new(price: f64, quality: f64) -> Self {
        Provider {
            price,
            quality,
            cash: 0,
            loss_years: 0,
            revenue: 0,
            costs: 0,
            served: 0,
        }
    }
}

/// Who receives a payment the market asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Payee {
    /// An account.
    Account(Account),
    /// Whoever earns the platform's revenue (its owner, or the operator leasing it).
    Platform,
}

/// A payment the market asks the platform to book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Payment {
    pub(super) from: Account,
    pub(super) to: Payee,
    pub(super) cents: i64,
    pub(super) purpose: Purpose,
}

/// What share of a month's requests was served, and how well (each 1 when nothing was
/// asked or served).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(super) struct Served {
    /// Share of app requests served.
    pub(super) app: f32,
    /// Share of traditional-channel requests served.
    pub(super) traditional: f32,
    /// Mean quality of what app users were served.
    pub(super) app_quality: f32,
    /// Mean quality of what the others were served.
    pub(super) traditional_quality: f32,
}

/// A month's close: the payments, in booking order, and the shares served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct MonthClose {
    pub(super) payments: Vec<Payment>,
    pub(super) served: Served,
}

/// A year's close: the payments, in booking order, and the year's market figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct YearClose {
    pub(super) payments: Vec<Payment>,
    /// Demand-weighted HHI of providers' shares of the year's sales.
    pub(super) hhi: f64,
    /// Mean provider quality after the year's changes (NaN without providers).
    pub(super) quality: f64,
    /// Active providers after entry and exit.
    pub(super) providers: u32,
    /// Fines levied.
    pub(super) penalties: u32,
    /// Demand-weighted price relative to reference prices.
    pub(super) price_index: f64,
    /// The commission rate for the coming year.
    pub(super) commission: f64,
}

/// One community's service market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Market {
    community: u32,
    /// Share of app requests the platform opens to providers.
    openness: f64,
    regulator: bool,
    /// The platform's owner seeks profit and raises its commission (source 001).
    profit_seeking: bool,
    pub(super) commission: f64,
    /// Providers per service kind, in [`ServiceKind::ALL`] order.
    pub(super) providers: Vec<Vec<Provider>>,
    /// This month's requests so far.
    demand: Demand,
    /// Requests this year, per service kind.
    demand_year: [u64; SERVICES],
    /// App requests this year, per service kind.
    app_demand_year: [u64; SERVICES],
}

impl Market {
    /// The market of `community` under `model`, with the economy's initial providers for
    /// every service that can be `offered` here.
    pub(super) fn new(
        community: u32,
        e: &EconomyParams,
        model: &ModelParams,
        offered: &[bool; SERVICES],
    ) -> Self {
        let m = &e.market;
        let providers = ServiceKind::ALL
            .iter()
            .map(|k| {
                let s = &e.services[k];
                let n = if model.market_openness > 0.0 && offered[k.index()] {
                    m.initial_enterprises
                } else {
                    0
                };
                (0..n).map(|_| Provider::new(s.price, s.quality)).collect()
            })
            .collect();
        Market {
            community,
            openness: model.market_openness,
            regulator: model.regulator,
            profit_seeking: model.platform == Party::Operator,
            commission: if model.regulator {
                m.commission.min(e.regulation.commission_cap)
            } else {
                m.commission
            },
            providers,
            demand: Demand::default(),
            demand_year: [0; SERVICES],
            app_demand_year: [0; SERVICES],
        }
    }

    /// Adds one building's requests to this month's.
    pub(super) fn add_demand(&mut self, d: &Demand) {
        for i in 0..SERVICES {
            self.demand.app[i] += d.app[i];
            self.demand.traditional[i] += d.traditional[i];
            self.demand.app_elderly[i] += d.app_elderly[i];
            self.demand.traditional_elderly[i] += d.traditional_elderly[i];
        }
    }

    /// Mean price of active providers relative to the reference price (1 if none).
    pub(super) fn price_factor(&self, e: &EconomyParams, k: ServiceKind) -> f64 {
        let ps = &self.providers[k.index()];
        if ps.is_empty() {
            return 1.0;
        }
        let reference = e.services[&k].price;
        ps.iter().map(|p| p.price).sum::<f64>() / ps.len() as f64 / reference
    }

    /// Demand-weighted price index relative to reference prices.
    fn price_index(&self, e: &EconomyParams) -> f64 {
        let total: u64 = self.demand_year.iter().sum();
        if total == 0 {
            return 1.0;
        }
        ServiceKind::ALL
            .iter()
            .enumerate()
            .map(|(i, k)| self.demand_year[i] as f64 * self.price_factor(e, *k))
            .sum::<f64>()
            / total as f64
    }

    /// Matches the month's requests to providers. Requests the platform does not open to
    /// the market, or that no provider can take, fall back to traditional channels
    /// (offline providers reached by phone or in person), as do all requests while the
    /// platform is stopped (`operating` false).
    pub(super) fn close_month(
        &mut self,
        e: &EconomyParams,
        offered: &[bool; SERVICES],
        operating: bool,
    ) -> MonthClose {
        let c = self.community;
        let mut payments = Vec::new();
        let mut pay = |from: Account, to: Payee, cents: i64, purpose: Purpose| {
            payments.push(Payment {
                from,
                to,
                cents,
                purpose,
            })
        };
        let demand = std::mem::take(&mut self.demand);
        let mut app_req = 0.0f64;
        let mut app_served = 0.0f64;
        let mut app_quality = 0.0f64;
        let mut trad_req = 0.0f64;
        let mut trad_served = 0.0f64;
        let mut trad_quality = 0.0f64;
        for (i, k) in ServiceKind::ALL.iter().enumerate() {
            let s = &e.services[k];
            let d_app = demand.app[i] as f64;
            let d_trad_own = demand.traditional[i] as f64;
            app_req += d_app;
            trad_req += d_trad_own;
            self.demand_year[i] += (demand.app[i] + demand.traditional[i]) as u64;
            self.app_demand_year[i] += demand.app[i] as u64;
            if !offered[i] {
                continue;
            }
            // On the platform: the open share of app requests, shared among providers by
            // quality and price, each up to its capacity.
            let open_demand = if operating {
                d_app * self.openness
            } else {
                0.0
            };
            let commission_rate = rate(self.commission);
            let ps = &mut self.providers[i];
            let weights: Vec<f64> = ps
                .iter()
                .map(|p| p.quality * (p.price / s.price).powf(-e.market.price_elasticity))
                .collect();
            let total_w: f64 = weights.iter().sum();
            let (mut revenue_k, mut commission_k, mut cost_k, mut on_platform) =
                (0i64, 0i64, 0i64, 0.0f64);
            let fixed_month = cents(s.fixed_cost / 12.0);
            for (p, w) in ps.iter_mut().zip(&weights) {
                // Households' requests already respond to price; here price and quality
                // only decide which provider gets them.
                let wanted = if total_w > 0.0 {
                    open_demand * (w / total_w)
                } else {
                    0.0
                };
                let served = wanted.min(s.capacity).floor();
                let revenue = cents(served * p.price);
                let commission = (revenue as f64 * commission_rate).round() as i64;
                let cost = cents(served * s.unit_cost) + fixed_month;
                p.revenue += revenue;
                p.costs += cost + commission;
                p.cash += revenue - commission - cost;
                p.served += served as u64;
                on_platform += served;
                app_quality += served * p.quality;
                revenue_k += revenue;
                commission_k += commission;
                cost_k += cost;
            }
            let enterprises = Account::Enterprises(c);
            pay(
                Account::Residents(c),
                Payee::Account(enterprises),
                revenue_k,
                Purpose::Service(*k),
            );
            pay(
                enterprises,
                Payee::Account(Account::Suppliers),
                cost_k,
                Purpose::ProviderCost(*k),
            );
            pay(
                enterprises,
                Payee::Platform,
                commission_k,
                Purpose::Commission(*k),
            );
            app_served += on_platform;
            // Off the platform: what is left of app requests, and the requests of those
            // who do not use the app, at the reference price, if the channels are kept.
            let fallback = d_app - on_platform;
            if e.adoption.traditional_channels && fallback + d_trad_own > 0.0 {
                let share = e.market.traditional_service_share;
                let from_app = (fallback * share).floor();
                let own = (d_trad_own * share).floor();
                app_served += from_app;
                app_quality += from_app * s.quality;
                trad_served += own;
                trad_quality += own * s.quality;
                let served = from_app + own;
                pay(
                    Account::Residents(c),
                    Payee::Account(enterprises),
                    cents(served * s.price),
                    Purpose::Service(*k),
                );
                pay(
                    enterprises,
                    Payee::Account(Account::Suppliers),
                    cents(served * s.unit_cost),
                    Purpose::ProviderCost(*k),
                );
            }
        }
        // Nothing asked (or nothing served) counts as fully served, at full quality.
        let ratio = |a: f64, b: f64| if b > 0.0 { (a / b) as f32 } else { 1.0 };
        MonthClose {
            payments,
            served: Served {
                app: ratio(app_served, app_req),
                traditional: ratio(trad_served, trad_req),
                app_quality: ratio(app_quality, app_served),
                traditional_quality: ratio(trad_quality, trad_served),
            },
        }
    }

    /// Closes the year: entry, exit, market power and regulation over the year's sales,
    /// then starts a new year of demand.
    pub(super) fn close_year(
        &mut self,
        e: &EconomyParams,
        offered: &[bool; SERVICES],
    ) -> YearClose {
        let c = self.community;
        let m = &e.market;
        let mut payments = Vec::new();
        let mut penalties = 0;
        let mut hhi_weighted = 0.0;
        let mut weight = 0.0;
        let mut quality_sum = 0.0;
        let mut count = 0u32;
        for (i, k) in ServiceKind::ALL.iter().enumerate() {
            let offered = offered[i];
            let s = &e.services[k];
            let ps = &mut self.providers[i];
            // Concentration of this year's sales, weighted by what residents asked for; a
            // service asked for that nobody provides counts as fully concentrated.
            let served: u64 = ps.iter().map(|p| p.served).sum();
            let hhi = if served > 0 {
                ps.iter()
                    .map(|p| (p.served as f64 / served as f64).powi(2))
                    .sum()
            } else if ps.is_empty() {
                1.0
            } else {
                1.0 / ps.len() as f64
            };
            let asked = self.demand_year[i] as f64;
            if offered && asked > 0.0 {
                hhi_weighted += hhi * asked;
                weight += asked;
            }
            // Exit after consecutive losses.
            for p in ps.iter_mut() {
                if p.revenue - p.costs < 0 {
                    p.loss_years += 1
                } else {
                    p.loss_years = 0
                }
            }
            ps.retain(|p| p.loss_years < m.exit_after_loss_years);
            // Market power grows with concentration above the dominance threshold: full
            // steps for a monopoly, none at or below the threshold — in every model.
            let power =
                ((hhi - m.dominance_hhi) / (1.0 - m.dominance_hhi).max(1e-9)).clamp(0.0, 1.0);
            if power > 0.0 && served > 0 {
                for p in ps.iter_mut() {
                    p.price *= 1.0 + m.monopoly_price_step * power;
                    p.quality = (p.quality * (1.0 - m.monopoly_quality_step * power)).max(0.0);
                }
            }
            // Regulation: price caps, quality floor with fines.
            if self.regulator {
                for p in ps.iter_mut() {
                    p.price = p.price.min(s.price * e.regulation.price_cap);
                    if p.quality < e.regulation.quality_floor {
                        let fine = (p.revenue as f64 * e.regulation.penalty_share).round() as i64;
                        payments.push(Payment {
                            from: Account::Enterprises(c),
                            to: Payee::Account(Account::Government),
                            cents: fine,
                            purpose: Purpose::Penalty,
                        });
                        p.cash -= fine;
                        p.quality = e.regulation.quality_floor;
                        penalties += 1;
                    }
                }
            }
            // Entry, looking forward: a newcomer expects an equal share of last year's
            // app demand on the platform, at the lowest incumbent price less the
            // commission; it enters if that covers its costs with the entry margin.
            let volume = (self.app_demand_year[i] as f64 * self.openness / (ps.len() as f64 + 1.0))
                .min(s.capacity * 12.0);
            let price = ps.iter().map(|p| p.price).fold(s.price, f64::min);
            let revenue = volume * price;
            let profit =
                volume * (price * (1.0 - rate(self.commission)) - s.unit_cost) - s.fixed_cost;
            let attractive = offered && revenue > 0.0 && profit >= m.entry_margin * revenue;
            if self.openness > 0.0 && attractive && (ps.len() as u32) < m.max_enterprises {
                let entry = cents(s.fixed_cost);
                payments.push(Payment {
                    from: Account::Outside,
                    to: Payee::Account(Account::Enterprises(c)),
                    cents: entry,
                    purpose: Purpose::Equity,
                });
                payments.push(Payment {
                    from: Account::Enterprises(c),
                    to: Payee::Account(Account::Suppliers),
                    cents: entry,
                    purpose: Purpose::ProviderEntry(*k),
                });
                let price = ps.iter().map(|p| p.price).fold(s.price, f64::min);
                ps.push(Provider::new(price, s.quality));
            }
            for p in ps.iter_mut() {
                p.revenue = 0;
                p.costs = 0;
                p.served = 0;
                quality_sum += p.quality;
                count += 1;
            }
        }
        // The platform is the only one in the community; a profit-seeking owner uses
        // that power to raise its commission (source 001), unless a regulator caps it.
        if self.profit_seeking {
            let ceiling = e.market.commission.max(0.5);
            self.commission = (self.commission + m.monopoly_commission_step).min(ceiling);
        }
        if self.regulator {
            self.commission = self.commission.min(e.regulation.commission_cap);
        }
        let price_index = self.price_index(e);
        self.demand_year = [0; SERVICES];
        self.app_demand_year = [0; SERVICES];
        YearClose {
            payments,
            hhi: if weight > 0.0 {
                hhi_weighted / weight
            } else {
                0.0
            },
            quality: if count > 0 {
                quality_sum / count as f64
            } else {
                f64::NAN
            },
            providers: count,
            penalties,
            price_index,
            commission: self.commission,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_twin::kinds::InvestmentModel;
    use civitas_twin::params::Parameters;

    const K: ServiceKind = ServiceKind::Housekeeping;

    /// One service (housekeeping at 100 yuan a use, quality 0.8, cost 40 a use and 1,200
    /// a year), one provider, a 10% commission on a fully open platform whose owner seeks
    /// profit, and traditional channels that serve half of what they are asked.
    fn market() -> (Market, EconomyParams, [bool; SERVICES]) {
        let mut e = Parameters::default().economy;
        let s = e.services.get_mut(&K).unwrap();
        (s.price, s.quality, s.capacity, s.unit_cost, s.fixed_cost) =
            (100.0, 0.8, 1000.0, 40.0, 1200.0);
        e.market.commission = 0.1;
        e.market.initial_enterprises = 1;
        e.market.traditional_service_share = 0.5;
        e.adoption.traditional_channels = true;
        let mut model = e.models[&InvestmentModel::Market].clone();
        (model.market_openness, model.regulator, model.platform) = (1.0, false, Party::Operator);
        let mut offered = [false; SERVICES];
        offered[K.index()] = true;
        (Market::new(0, &e, &model, &offered), e, offered)
    }

    /// 10 app requests and 4 by phone or in person for the service.
    fn ask(m: &mut Market) {
        let mut d = Demand::default();
        d.app[K.index()] = 10;
        d.traditional[K.index()] = 4;
        m.add_demand(&d);
    }

    fn pay(from: Account, to: Payee, cents: i64, purpose: Purpose) -> Payment {
        Payment {
            from,
            to,
            cents,
            purpose,
        }
    }

    const RESIDENTS: Account = Account::Residents(0);
    const ENTERPRISES: Account = Account::Enterprises(0);

    #[test]
    fn a_months_close_pays_the_provider_the_platform_its_commission_and_reports_shares_served() {
        let (mut m, e, offered) = market();
        ask(&mut m);
        let close = m.close_month(&e, &offered, true);
        assert_eq!(
            close.payments,
            vec![
                // 10 app uses at 100 yuan; the provider's cost 10 × 40 + 1,200 / 12.
                pay(
                    RESIDENTS,
                    Payee::Account(ENTERPRISES),
                    100_000,
                    Purpose::Service(K)
                ),
                pay(
                    ENTERPRISES,
                    Payee::Account(Account::Suppliers),
                    50_000,
                    Purpose::ProviderCost(K)
                ),
                pay(ENTERPRISES, Payee::Platform, 10_000, Purpose::Commission(K)),
                // Half of the 4 traditional requests, at the reference price.
                pay(
                    RESIDENTS,
                    Payee::Account(ENTERPRISES),
                    20_000,
                    Purpose::Service(K)
                ),
                pay(
                    ENTERPRISES,
                    Payee::Account(Account::Suppliers),
                    8_000,
                    Purpose::ProviderCost(K)
                ),
            ]
        );
        assert_eq!(
            close.served,
            Served {
                app: 1.0,
                traditional: 0.5,
                app_quality: 0.8,
                traditional_quality: 0.8
            }
        );
        let p = m.providers[K.index()][0];
        assert_eq!(
            (p.revenue, p.costs, p.cash, p.served),
            (100_000, 60_000, 40_000, 10)
        );
        // The month's demand is spent.
        let again = m.close_month(&e, &offered, true);
        assert_eq!(
            again.served.app, 1.0,
            "nothing asked counts as fully served"
        );
    }

    #[test]
    fn while_the_platform_is_stopped_app_requests_fall_back_to_traditional_channels() {
        let (mut m, e, offered) = market();
        ask(&mut m);
        let close = m.close_month(&e, &offered, false);
        assert_eq!(
            close.payments,
            vec![
                pay(
                    RESIDENTS,
                    Payee::Account(ENTERPRISES),
                    0,
                    Purpose::Service(K)
                ),
                // The provider still pays its fixed cost.
                pay(
                    ENTERPRISES,
                    Payee::Account(Account::Suppliers),
                    10_000,
                    Purpose::ProviderCost(K)
                ),
                pay(ENTERPRISES, Payee::Platform, 0, Purpose::Commission(K)),
                // 5 of the 10 app requests and 2 of the 4 others served off the platform.
                pay(
                    RESIDENTS,
                    Payee::Account(ENTERPRISES),
                    70_000,
                    Purpose::Service(K)
                ),
                pay(
                    ENTERPRISES,
                    Payee::Account(Account::Suppliers),
                    28_000,
                    Purpose::ProviderCost(K)
                ),
            ]
        );
        assert_eq!(
            close.served,
            Served {
                app: 0.5,
                traditional: 0.5,
                app_quality: 0.8,
                traditional_quality: 0.8
            }
        );
    }

    #[test]
    fn a_year_of_monopoly_raises_the_providers_price_and_the_profit_seeking_platforms_commission() {
        let (mut m, e, offered) = market();
        ask(&mut m);
        m.close_month(&e, &offered, true);
        let year = m.close_year(&e, &offered);
        let mk = &e.market;
        let price = 100.0 * (1.0 + mk.monopoly_price_step);
        let quality = 0.8 * (1.0 - mk.monopoly_quality_step);
        assert_eq!(year.hhi, 1.0);
        assert_eq!(year.providers, 1);
        assert_eq!(year.quality, quality);
        assert_eq!(year.penalties, 0);
        // Entry does not pay: 5 expected uses cannot cover 1,200 a year.
        assert!(year.payments.is_empty());
        assert_eq!(year.price_index, price / 100.0);
        assert_eq!(year.commission, 0.1 + mk.monopoly_commission_step);
        assert_eq!(m.commission, year.commission);
        let p = m.providers[K.index()][0];
        assert_eq!((p.price, p.quality, p.loss_years), (price, quality, 0));
        assert_eq!(
            (p.revenue, p.costs, p.served),
            (0, 0, 0),
            "a new year of sales"
        );
    }
}
