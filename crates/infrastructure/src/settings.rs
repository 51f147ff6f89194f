use async_trait::async_trait;
use dialix_account::{SettingsRepository, UserSettings};
use dialix_kernel::{AccountId, DomainResult, RowVersion, Tx};
use sea_orm::prelude::{Expr, TimeUnixTimestampMillis};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::Database;
use crate::entities::user_settings;
use crate::sql::{internal, landed, versioned};
use crate::transaction::db_tx;

/// Settings in `user_settings`, one row per user.
pub struct SeaOrmSettings {
    db: Database,
}

impl SeaOrmSettings {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SettingsRepository for SeaOrmSettings {
    async fn find(&self, user: AccountId) -> DomainResult<Option<UserSettings>> {
        let row = user_settings::Entity::find()
            .filter(user_settings::Column::UserId.eq(user.as_uuid()))
            .one(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(row.map(|row| UserSettings {
            user_id: AccountId::from_uuid(row.user_id),
            email_notifications: row.email_notifications,
            sms_notifications: row.sms_notifications,
            push_notifications: row.push_notifications,
            language: row.language,
            timezone: row.timezone,
            auto_delete_records_after_days: row.auto_delete_records_after_days,
            preferred_stt_model: row.preferred_stt_model,
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
            row_version: RowVersion(row.row_version),
        }))
    }

    async fn insert(&self, tx: &mut Tx, settings: &UserSettings) -> DomainResult<bool> {
        let row = user_settings::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(settings.user_id.as_uuid()),
            email_notifications: Set(settings.email_notifications),
            sms_notifications: Set(settings.sms_notifications),
            push_notifications: Set(settings.push_notifications),
            language: Set(settings.language.clone()),
            timezone: Set(settings.timezone.clone()),
            auto_delete_records_after_days: Set(settings.auto_delete_records_after_days),
            preferred_stt_model: Set(settings.preferred_stt_model.clone()),
            created_at: Set(TimeUnixTimestampMillis(settings.created_at)),
            updated_at: Set(TimeUnixTimestampMillis(settings.updated_at)),
            row_version: Set(settings.row_version.0),
        };
        let inserted = user_settings::Entity::insert(row)
            .on_conflict(
                OnConflict::column(user_settings::Column::UserId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(inserted == 1)
    }

    async fn update(&self, tx: &mut Tx, settings: &mut UserSettings) -> DomainResult<()> {
        let result = versioned(
            user_settings::Entity::update_many(),
            user_settings::Column::RowVersion,
            settings.row_version,
        )
        .col_expr(
            user_settings::Column::EmailNotifications,
            Expr::value(settings.email_notifications),
        )
        .col_expr(
            user_settings::Column::SmsNotifications,
            Expr::value(settings.sms_notifications),
        )
        .col_expr(
            user_settings::Column::PushNotifications,
            Expr::value(settings.push_notifications),
        )
        .col_expr(
            user_settings::Column::Language,
            Expr::value(settings.language.clone()),
        )
        .col_expr(
            user_settings::Column::Timezone,
            Expr::value(settings.timezone.clone()),
        )
        .col_expr(
            user_settings::Column::AutoDeleteRecordsAfterDays,
            Expr::value(settings.auto_delete_records_after_days),
        )
        .col_expr(
            user_settings::Column::PreferredSttModel,
            Expr::value(settings.preferred_stt_model.clone()),
        )
        .col_expr(
            user_settings::Column::UpdatedAt,
            Expr::value(TimeUnixTimestampMillis(settings.updated_at)),
        )
        .filter(user_settings::Column::UserId.eq(settings.user_id.as_uuid()))
        .exec(db_tx(tx)?)
        .await
        .map_err(internal)?;
        landed(result, "settings")?;
        settings.row_version = settings.row_version.next();
        Ok(())
    }
}
