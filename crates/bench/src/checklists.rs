//! Checklists and their verdicts: each company has one or two checklists of eight items (one
//! or two critical, pass mark 70), its operators are each assigned one, and a share of the
//! analysed calls is scored against the version current at the call's time. A call's review
//! is a pure function of its index, so the record (payload, score, compliance) and its
//! `checklist_verdict` rows, written in two passes, agree.

use dialix_calls::{Checklist, ChecklistItem, ChecklistResult, ChecklistSegment, parse_checklist};
use dialix_kernel::{ChecklistId, CompanyId, RowVersion};
use sea_orm::sqlx::PgPool;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Result;
use crate::copy::{Sink, copy_in};
use crate::population::Population;
use crate::rng::Rng;

/// Share of the analysed calls scored against a checklist.
pub const CHECKED_SHARE: f64 = 0.40;
/// The pass mark of every generated checklist version.
const PASS_MARK: u32 = 70;
const DAY_MS: i64 = 86_400_000;

/// One template item: its text, whether it is critical, how often it passes for an average
/// operator, how often it does not apply, and the quotes given as evidence either way.
struct ItemTemplate {
    text: &'static str,
    critical: bool,
    pass: f64,
    not_applicable: f64,
    /// Where in the call the evidence usually is: 0 the start, 1 the end.
    place: f64,
    passed_quote: &'static str,
    failed_quote: &'static str,
}

struct Template {
    name: &'static str,
    /// Item 1.1 as the checklist's second version words it.
    revised_first: &'static str,
    segments: [(&'static str, &'static [ItemTemplate]); 3],
}

const SERVICE: Template = Template {
    name: "Xizmat ko'rsatish standarti",
    revised_first: "Kompaniya nomi va bo'lim bilan salomlashdi",
    segments: [
        (
            "Salomlashish",
            &[
                ItemTemplate {
                    text: "Kompaniya nomi bilan salomlashdi",
                    critical: false,
                    pass: 0.93,
                    not_applicable: 0.0,
                    place: 0.0,
                    passed_quote: "Assalomu alaykum, aloqa markazi, sizni eshitaman.",
                    failed_quote: "Ha, eshitaman.",
                },
                ItemTemplate {
                    text: "O'zini tanishtirdi",
                    critical: false,
                    pass: 0.78,
                    not_applicable: 0.0,
                    place: 0.02,
                    passed_quote: "Mening ismim Dilnoza, sizga qanday yordam bera olaman?",
                    failed_quote: "Gapiring, nima masala?",
                },
            ],
        ),
        (
            "Ehtiyojni aniqlash",
            &[
                ItemTemplate {
                    text: "Mijozning shaxsini tasdiqladi (ism va telefon raqami)",
                    critical: true,
                    pass: 0.92,
                    not_applicable: 0.08,
                    place: 0.15,
                    passed_quote: "Ismingiz va telefon raqamingizni tasdiqlab bering, iltimos.",
                    failed_quote: "Ma'lumotlarni tekshirmasdan buyurtmani o'zgartiraman.",
                },
                ItemTemplate {
                    text: "Aniqlovchi savollar berdi",
                    critical: false,
                    pass: 0.8,
                    not_applicable: 0.05,
                    place: 0.3,
                    passed_quote: "Muammo qachondan beri davom etyapti?",
                    failed_quote: "Tushunarli, keyingi savol.",
                },
                ItemTemplate {
                    text: "Mijozning gapini bo'lmadi",
                    critical: false,
                    pass: 0.85,
                    not_applicable: 0.0,
                    place: 0.4,
                    passed_quote: "Tushundim, davom eting, eshitaman.",
                    failed_quote: "Kuting, kuting, men avval aytay.",
                },
            ],
        ),
        (
            "Yechim va yakun",
            &[
                ItemTemplate {
                    text: "Yechim yoki keyingi qadamni aniq aytdi",
                    critical: false,
                    pass: 0.76,
                    not_applicable: 0.04,
                    place: 0.7,
                    passed_quote: "Arizangizni ochdim, ertaga soat 12 gacha qo'ng'iroq qilamiz.",
                    failed_quote: "Bilmadim, keyinroq qo'ng'iroq qiling.",
                },
                ItemTemplate {
                    text: "Qo'pol yoki noo'rin so'z ishlatmadi",
                    critical: true,
                    pass: 0.95,
                    not_applicable: 0.0,
                    place: 0.6,
                    passed_quote: "Albatta, tushunaman, hozir hal qilamiz.",
                    failed_quote: "Bu sizning muammoingiz, men nima qilay?",
                },
                ItemTemplate {
                    text: "Yana savol bormi deb so'rab, xayrlashdi",
                    critical: false,
                    pass: 0.82,
                    not_applicable: 0.1,
                    place: 1.0,
                    passed_quote: "Yana savollaringiz bormi? Rahmat, xayr!",
                    failed_quote: "Bo'ldi, xayr.",
                },
            ],
        ),
    ],
};

const SALES: Template = Template {
    name: "Скрипт продаж",
    revised_first: "Поздоровался, назвал компанию и отдел",
    segments: [
        (
            "Приветствие",
            &[
                ItemTemplate {
                    text: "Поздоровался и назвал компанию",
                    critical: false,
                    pass: 0.94,
                    not_applicable: 0.0,
                    place: 0.0,
                    passed_quote: "Здравствуйте, контакт-центр, чем могу помочь?",
                    failed_quote: "Алло.",
                },
                ItemTemplate {
                    text: "Назвал своё имя",
                    critical: false,
                    pass: 0.8,
                    not_applicable: 0.0,
                    place: 0.02,
                    passed_quote: "Меня зовут Анвар, я ваш менеджер.",
                    failed_quote: "Слушаю.",
                },
            ],
        ),
        (
            "Презентация",
            &[
                ItemTemplate {
                    text: "Выяснил потребность клиента",
                    critical: false,
                    pass: 0.78,
                    not_applicable: 0.03,
                    place: 0.25,
                    passed_quote: "Для каких задач вы планируете использовать тариф?",
                    failed_quote: "Берите этот, он всем подходит.",
                },
                ItemTemplate {
                    text: "Назвал цену и условия без искажений",
                    critical: true,
                    pass: 0.9,
                    not_applicable: 0.12,
                    place: 0.5,
                    passed_quote: "Стоимость 120 000 сум в месяц, подключение бесплатно.",
                    failed_quote: "Там недорого, потом посмотрите в договоре.",
                },
                ItemTemplate {
                    text: "Предложил дополнительную услугу",
                    critical: false,
                    pass: 0.55,
                    not_applicable: 0.3,
                    place: 0.6,
                    passed_quote: "Могу также предложить доставку со скидкой.",
                    failed_quote: "Больше ничего нет.",
                },
            ],
        ),
        (
            "Завершение",
            &[
                ItemTemplate {
                    text: "Отработал возражение",
                    critical: false,
                    pass: 0.65,
                    not_applicable: 0.35,
                    place: 0.7,
                    passed_quote: "Понимаю ваши сомнения, давайте сравним с текущим тарифом.",
                    failed_quote: "Ну не хотите — как хотите.",
                },
                ItemTemplate {
                    text: "Подтвердил договорённость",
                    critical: false,
                    pass: 0.75,
                    not_applicable: 0.05,
                    place: 0.9,
                    passed_quote: "Итак, оформляю заявку, курьер приедет завтра.",
                    failed_quote: "Ладно, как-нибудь разберёмся.",
                },
                ItemTemplate {
                    text: "Попрощался и поблагодарил",
                    critical: false,
                    pass: 0.88,
                    not_applicable: 0.0,
                    place: 1.0,
                    passed_quote: "Спасибо за звонок, хорошего дня!",
                    failed_quote: "Всё, до свидания.",
                },
            ],
        ),
    ],
};

const TEMPLATES: [&Template; 2] = [&SERVICE, &SALES];

/// A company's checklist with every version (oldest first).
pub struct CompanyChecklist {
    pub id: Uuid,
    pub template: usize,
    pub created_ms: i64,
    pub versions: Vec<Checklist>,
    /// When each version became current.
    pub since_ms: Vec<i64>,
}

impl CompanyChecklist {
    /// The index of the version current at `at_ms` (the first one before it existed).
    pub fn version_at(&self, at_ms: i64) -> usize {
        self.since_ms
            .iter()
            .rposition(|&since| since <= at_ms)
            .unwrap_or(0)
    }
}

/// One or two checklists for a company created at `created_ms`; the first gets a second
/// version (an item reworded) halfway through the period, so scored calls carry both.
pub fn for_company(
    rng: &mut Rng,
    company: Uuid,
    created_ms: i64,
    start_ms: i64,
    end_ms: i64,
) -> Vec<CompanyChecklist> {
    let count = if rng.chance(0.5) { 2 } else { 1 };
    let first_template = rng.below(2) as usize;
    (0..count)
        .map(|n| {
            let template = (first_template + n) % TEMPLATES.len();
            let id = rng.uuid_v7(created_ms + DAY_MS);
            let mut since_ms = vec![created_ms + DAY_MS];
            if n == 0 {
                since_ms.push(start_ms + (end_ms - start_ms) / 2);
            }
            let versions = since_ms
                .iter()
                .enumerate()
                .map(|(v, &since)| {
                    build(
                        TEMPLATES[template],
                        id,
                        company,
                        v as u32 + 1,
                        created_ms + DAY_MS,
                        since,
                    )
                })
                .collect();
            CompanyChecklist {
                id,
                template,
                created_ms: created_ms + DAY_MS,
                versions,
                since_ms,
            }
        })
        .collect()
}

fn build(
    template: &Template,
    id: Uuid,
    company: Uuid,
    version: u32,
    created_ms: i64,
    since_ms: i64,
) -> Checklist {
    let at = |ms: i64| {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    };
    let segments = template
        .segments
        .iter()
        .enumerate()
        .map(|(s, (title, items))| ChecklistSegment {
            title: (*title).to_owned(),
            items: items
                .iter()
                .enumerate()
                .map(|(i, item)| ChecklistItem {
                    id: format!("{}.{}", s + 1, i + 1),
                    text: if version > 1 && s == 0 && i == 0 {
                        template.revised_first.to_owned()
                    } else {
                        item.text.to_owned()
                    },
                    weight: None,
                    critical: item.critical,
                })
                .collect(),
        })
        .collect();
    Checklist {
        id: ChecklistId::from_uuid(id),
        company_id: CompanyId::from_uuid(company),
        name: template.name.to_owned(),
        version,
        segments,
        pass_mark: PASS_MARK,
        created_at: at(created_ms),
        updated_at: at(since_ms),
        row_version: RowVersion(0),
    }
}

/// How an operator does against the average: added to every item's pass probability.
pub fn operator_skill(seed: u64, company: usize, code: usize) -> f64 {
    let mut rng = Rng::stream(seed, 24, ((company as u64) << 16) | code as u64);
    rng.unit() * 0.18 - 0.12
}

/// The review of call `index` against `checklist` (a version of template `template`): every
/// item passes with its template's probability shifted by the operator's skill and a slow
/// improvement over the period (`progress`, 0 at its start, 1 at its end), scored by the
/// domain's own rules.
pub fn review(
    seed: u64,
    index: usize,
    template: usize,
    checklist: &Checklist,
    duration_ms: i64,
    skill: f64,
    progress: f64,
) -> Result<ChecklistResult> {
    let mut rng = Rng::stream(seed, 23, index as u64);
    let items: Vec<Value> = TEMPLATES[template]
        .segments
        .iter()
        .flat_map(|(_, items)| items.iter())
        .zip(checklist.items())
        .map(|(template, item)| {
            let passed = if rng.chance(template.not_applicable) {
                None
            } else {
                let p = (template.pass + skill + 0.05 * progress).clamp(0.02, 0.995);
                Some(rng.chance(p))
            };
            let at_ms = passed.map(|_| {
                let jitter = rng.unit() * 0.15;
                let place = (template.place + jitter - 0.075).clamp(0.0, 1.0);
                300 + (place * (duration_ms - 1_000).max(0) as f64) as i64
            });
            let evidence = match passed {
                Some(true) => template.passed_quote,
                Some(false) => template.failed_quote,
                None => "",
            };
            json!({"item_id": item.id, "passed": passed, "evidence": evidence, "at_ms": at_ms})
        })
        .collect();
    let reply = json!({ "items": items }).to_string();
    Ok(parse_checklist(&reply, checklist)?)
}

/// Writes the checklists and their versions (before the operators, who reference them).
pub async fn write(population: &std::sync::Arc<Population>, pool: &PgPool) -> Result<()> {
    let me = population.clone();
    copy_in(
        pool,
        "checklist",
        &[
            "id",
            "company_id",
            "name",
            "current_version",
            "created_at",
            "updated_at",
            "deleted_at",
            "row_version",
        ],
        move |sink| {
            for company in &me.companies {
                for c in &company.checklists {
                    let versions = c.versions.len() as i64;
                    sink.row()?
                        .uuid(c.id)
                        .uuid(company.id)
                        .text(&c.versions[0].name)
                        .int(versions)
                        .int(c.created_ms)
                        .int(*c.since_ms.last().unwrap_or(&c.created_ms))
                        .null()
                        .int(versions - 1)
                        .end();
                }
            }
            Ok(())
        },
    )
    .await?;
    let me = population.clone();
    copy_in(
        pool,
        "checklist_version",
        &["id", "checklist_id", "version", "content", "created_at"],
        move |sink| {
            let mut rng = Rng::stream(0, 25, 0);
            for company in &me.companies {
                for c in &company.checklists {
                    for (v, since) in c.versions.iter().zip(&c.since_ms) {
                        // As the catalog stores a version.
                        let content = json!({
                            "name": v.name,
                            "segments": v.segments,
                            "pass_mark": v.pass_mark,
                        });
                        sink.row()?
                            .uuid(rng.uuid_v7(*since))
                            .uuid(c.id)
                            .int(i64::from(v.version))
                            .json(&content)
                            .int(*since)
                            .end();
                    }
                }
            }
            Ok(())
        },
    )
    .await
}

pub const VERDICT_COLUMNS: [&str; 10] = [
    "record_id",
    "item_id",
    "company_id",
    "checklist_id",
    "checklist_version",
    "critical",
    "passed",
    "evidence",
    "at_ms",
    "call_at",
];

/// One `checklist_verdict` row per item of every scored call, recomputed from the call's
/// index exactly as the record writer scored it. Returns the number of rows.
pub fn write_verdicts(
    sink: &mut Sink,
    seed: u64,
    population: &Population,
    processed: &[crate::calls::Processed],
) -> Result<u64> {
    let mut rows = 0;
    for call in processed {
        let Some((list, version)) = call.checklist else {
            continue;
        };
        let company = &population.companies[call.company as usize];
        let checklist = &company.checklists[list as usize];
        let result = review(
            seed,
            call.index as usize,
            checklist.template,
            &checklist.versions[version as usize],
            call.duration_ms,
            operator_skill(seed, call.company as usize, call.code as usize),
            population.progress(call.call_at),
        )?;
        for item in &result.items {
            sink.row()?
                .uuid(call.id)
                .text(&item.item_id)
                .uuid(company.id)
                .uuid(checklist.id)
                .int(i64::from(result.version))
                .boolean(item.critical)
                .opt_bool(item.passed)
                .text(&item.evidence)
                .opt_int(item.at_ms.map(|ms| ms as i64))
                .int(call.call_at)
                .end();
            rows += 1;
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_has_eight_items_and_one_or_two_critical() {
        for template in TEMPLATES {
            let items: Vec<&ItemTemplate> = template
                .segments
                .iter()
                .flat_map(|(_, i)| i.iter())
                .collect();
            assert_eq!(items.len(), 8, "{}", template.name);
            let critical = items.iter().filter(|i| i.critical).count();
            assert!((1..=2).contains(&critical), "{}", template.name);
        }
    }

    #[test]
    fn a_review_is_repeatable_and_scored_by_the_domain() {
        let mut rng = Rng::new(7);
        let lists = for_company(&mut rng, Uuid::nil(), 0, 10 * DAY_MS, 100 * DAY_MS);
        let first = &lists[0];
        assert_eq!(first.versions.len(), 2);
        assert_eq!(first.version_at(0), 0);
        assert_eq!(first.version_at(99 * DAY_MS), 1);
        let review = |i| review(1, i, first.template, &first.versions[1], 120_000, 0.0, 0.5);
        let one = review(42).unwrap();
        assert_eq!(one, review(42).unwrap());
        assert_eq!(one.items.len(), 8);
        assert_eq!(one.pass_mark, 70);
        assert_eq!(one.version, 2);
        let critical_failed = one
            .items
            .iter()
            .any(|i| i.critical && i.passed == Some(false));
        assert_eq!(one.compliant, !critical_failed && one.score >= 70.0);
        // The payload's shape is the domain's.
        let back: ChecklistResult =
            serde_json::from_value(serde_json::to_value(&one).unwrap()).unwrap();
        assert_eq!(back, one);
    }
}
