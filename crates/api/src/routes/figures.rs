//! What every statistics, dashboard and compliance endpoint reads from its query: the period
//! (`start_date`/`end_date`, local dates in the caller's time zone), the company filter and
//! the answer's format.

use dialix_kernel::CompanyId;
use dialix_reporting::{FigureRequest, Period};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use actix_web::HttpResponse;

use crate::http::{CsvTable, QueryValues};

/// The period and company of a figure request; the rest of the query is the endpoint's own.
pub fn figure_request(
    values: &mut QueryValues,
    start_date: Option<&str>,
    end_date: Option<&str>,
    company_id: Option<&str>,
) -> FigureRequest {
    FigureRequest {
        start_date: values.calendar_date("start_date", start_date),
        end_date: values.calendar_date("end_date", end_date),
        company_id: values
            .uuid("company_id", company_id)
            .map(CompanyId::from_uuid),
    }
}

/// How a figure endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    #[default]
    Json,
    Csv,
}

impl ExportFormat {
    /// `body` as JSON, or the table `csv` makes of it as a download named `filename`.
    pub fn respond<T: Serialize>(
        self,
        body: T,
        csv: impl FnOnce(&T) -> CsvTable,
        filename: &str,
    ) -> HttpResponse {
        match self {
            ExportFormat::Json => HttpResponse::Ok().json(body),
            ExportFormat::Csv => csv(&body).into_response(filename),
        }
    }

    /// `json` (default) or `csv`.
    pub fn parse(values: &mut QueryValues, raw: Option<&str>) -> Self {
        values
            .choice(
                "format",
                raw,
                |name| match name {
                    "json" => Some(ExportFormat::Json),
                    "csv" => Some(ExportFormat::Csv),
                    _ => None,
                },
                &["json", "csv"],
            )
            .unwrap_or_default()
    }
}

/// The period a figure covers, as the caller's local dates.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct FigurePeriod {
    #[schema(value_type = String, format = Date)]
    pub start_date: String,
    /// Included.
    #[schema(value_type = String, format = Date)]
    pub end_date: String,
    /// The caller's time zone setting (IANA name) the dates are in.
    pub timezone: String,
}

impl From<&Period> for FigurePeriod {
    fn from(p: &Period) -> Self {
        Self {
            start_date: p.start_date.to_string(),
            end_date: p.end_date.to_string(),
            timezone: p.timezone.clone(),
        }
    }
}
