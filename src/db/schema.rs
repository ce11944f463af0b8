// @generated automatically by Diesel CLI.

diesel::table! {
    article_authors (article_id, user_id) {
        article_id -> Int4,
        user_id -> Int4,
        position -> Int4,
        feed_published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    article_cards (article_id) {
        article_id -> Int4,
        public_from -> Nullable<Timestamp>,
        language -> Text,
        card -> Text,
        keys -> Text,
        translation_group -> Nullable<Int4>,
    }
}

diesel::table! {
    article_media (article_id, media_id) {
        article_id -> Int4,
        media_id -> Int4,
    }
}

diesel::table! {
    article_revisions (id) {
        id -> Int4,
        article_id -> Int4,
        revision -> Int4,
        version -> Int4,
        slug -> Text,
        title -> Text,
        subtitle -> Nullable<Text>,
        summary -> Nullable<Text>,
        body -> Text,
        status -> Text,
        published_at -> Nullable<Timestamp>,
        topic_ids -> Text,
        author_ids -> Text,
        changed_by -> Nullable<Int4>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    article_slugs (slug) {
        slug -> Text,
        article_id -> Int4,
        created_at -> Timestamp,
    }
}

diesel::table! {
    article_texts (article_id) {
        article_id -> Int4,
        body_text -> Text,
    }
}

diesel::table! {
    article_tombstones (article_id) {
        article_id -> Int4,
        sync_seq -> Int8,
    }
}

diesel::table! {
    article_topics (article_id, topic_id) {
        article_id -> Int4,
        topic_id -> Int4,
        position -> Int4,
        direct -> Bool,
        feed_published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    articles (id) {
        id -> Int4,
        slug -> Text,
        title -> Text,
        subtitle -> Nullable<Text>,
        summary -> Nullable<Text>,
        body -> Text,
        status -> Text,
        published_at -> Nullable<Timestamp>,
        language -> Text,
        primary_topic_id -> Nullable<Int4>,
        cover_image_url -> Nullable<Text>,
        cover_image_alt -> Nullable<Text>,
        cover_image_caption -> Nullable<Text>,
        cover_image_credit -> Nullable<Text>,
        source -> Nullable<Text>,
        seo_title -> Nullable<Text>,
        seo_description -> Nullable<Text>,
        seo_canonical_url -> Nullable<Text>,
        word_count -> Int4,
        reading_time_minutes -> Int4,
        version -> Int4,
        created_by -> Nullable<Int4>,
        deleted_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sync_seq -> Int8,
        pending_live -> Bool,
        was_public -> Bool,
        cover_media_id -> Nullable<Int4>,
        translation_group -> Nullable<Int4>,
        format -> Text,
        live_state -> Nullable<Text>,
        live_started_at -> Nullable<Timestamp>,
        live_ended_at -> Nullable<Timestamp>,
        breaking_at -> Nullable<Timestamp>,
        breaking_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    events (seq) {
        seq -> Int8,
        #[sql_name = "type"]
        type_ -> Text,
        occurred_at -> Timestamp,
        recorded_at -> Timestamp,
        actor_id -> Nullable<Int4>,
        article_id -> Nullable<Int4>,
        article_slug -> Nullable<Text>,
        article_status -> Nullable<Text>,
        article_language -> Nullable<Text>,
        topic_id -> Nullable<Int4>,
        topic_slug -> Nullable<Text>,
        author_id -> Nullable<Int4>,
        author_slug -> Nullable<Text>,
        changed -> Nullable<Text>,
        public -> Bool,
        purge_keys -> Nullable<Text>,
        media_id -> Nullable<Int4>,
        front_id -> Nullable<Int4>,
        front_slug -> Nullable<Text>,
        entry_id -> Nullable<Int4>,
    }
}

diesel::table! {
    front_media (front_id, media_id) {
        front_id -> Int4,
        media_id -> Int4,
    }
}

diesel::table! {
    front_pins (front_id, pinned_until) {
        front_id -> Int4,
        pinned_until -> Timestamp,
    }
}

diesel::table! {
    fronts (id) {
        id -> Int4,
        slug -> Text,
        title -> Text,
        sections -> Text,
        version -> Int4,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        updated_by -> Nullable<Int4>,
    }
}

diesel::table! {
    live_entries (id) {
        id -> Int4,
        article_id -> Int4,
        title -> Nullable<Text>,
        body -> Text,
        key_event -> Bool,
        pinned -> Bool,
        published_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        created_by -> Nullable<Int4>,
        version -> Int4,
    }
}

diesel::table! {
    live_entry_revisions (entry_id, revision) {
        entry_id -> Int4,
        revision -> Int4,
        title -> Nullable<Text>,
        body -> Text,
        key_event -> Bool,
        pinned -> Bool,
        published_at -> Timestamp,
        changed_at -> Timestamp,
        changed_by -> Nullable<Int4>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Int4,
        email -> Text,
        client_ip -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    media (id) {
        id -> Int4,
        name -> Text,
        format -> Text,
        width -> Int4,
        height -> Int4,
        bytes -> Int8,
        alt -> Nullable<Text>,
        caption -> Nullable<Text>,
        credit -> Nullable<Text>,
        focal_x -> Float8,
        focal_y -> Float8,
        blurhash -> Text,
        ready -> Bool,
        search_text -> Text,
        uploaded_by -> Int4,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Int4,
        user_id -> Int4,
        family_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    related_links (article_id, target_id) {
        article_id -> Int4,
        target_id -> Int4,
        relation -> Text,
        position -> Int4,
        created_at -> Timestamp,
    }
}

diesel::table! {
    site_state (id) {
        id -> Int4,
        generation -> Int8,
        purged_through -> Int8,
        webhooks_through -> Int8,
        purges_through -> Int8,
        purge_lease_until -> Nullable<Timestamp>,
        purge_failures -> Int4,
        purge_retry_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    topic_heads (topic_id) {
        topic_id -> Int4,
        entries -> Text,
        complete -> Bool,
    }
}

diesel::table! {
    topics (id) {
        id -> Int4,
        slug -> Text,
        name -> Text,
        description -> Nullable<Text>,
        parent_id -> Nullable<Int4>,
        position -> Int4,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        names -> Text,
        descriptions -> Text,
    }
}

diesel::table! {
    translation_groups (id) {
        id -> Int4,
    }
}

diesel::table! {
    users (id) {
        id -> Int4,
        email -> Text,
        name -> Text,
        slug -> Text,
        bio -> Nullable<Text>,
        role -> Text,
        password_hash -> Text,
        active -> Bool,
        token_generation -> Int4,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Int4,
        message_id -> Int4,
        attempted_at -> Timestamp,
        status_code -> Nullable<Int4>,
        error -> Nullable<Text>,
        duration_ms -> Int4,
        response -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_messages (id) {
        id -> Int4,
        message_id -> Text,
        webhook_id -> Int4,
        seq -> Nullable<Int8>,
        #[sql_name = "type"]
        type_ -> Text,
        body -> Text,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Int4,
        url -> Text,
        events -> Text,
        topic_ids -> Nullable<Text>,
        description -> Nullable<Text>,
        active -> Bool,
        disabled_reason -> Nullable<Text>,
        secret -> Text,
        failing_since -> Nullable<Timestamp>,
        after_seq -> Int8,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(article_authors -> articles (article_id));
diesel::joinable!(article_authors -> users (user_id));
diesel::joinable!(article_cards -> articles (article_id));
diesel::joinable!(article_media -> articles (article_id));
diesel::joinable!(article_media -> media (media_id));
diesel::joinable!(article_revisions -> articles (article_id));
diesel::joinable!(article_revisions -> users (changed_by));
diesel::joinable!(article_slugs -> articles (article_id));
diesel::joinable!(article_texts -> articles (article_id));
diesel::joinable!(article_topics -> articles (article_id));
diesel::joinable!(article_topics -> topics (topic_id));
diesel::joinable!(articles -> topics (primary_topic_id));
diesel::joinable!(articles -> translation_groups (translation_group));
diesel::joinable!(articles -> users (created_by));
diesel::joinable!(front_media -> fronts (front_id));
diesel::joinable!(front_pins -> fronts (front_id));
diesel::joinable!(fronts -> users (updated_by));
diesel::joinable!(live_entries -> articles (article_id));
diesel::joinable!(live_entries -> users (created_by));
diesel::joinable!(live_entry_revisions -> live_entries (entry_id));
diesel::joinable!(live_entry_revisions -> users (changed_by));
diesel::joinable!(media -> users (uploaded_by));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(topic_heads -> topics (topic_id));
diesel::joinable!(webhook_attempts -> webhook_messages (message_id));
diesel::joinable!(webhook_messages -> webhooks (webhook_id));

diesel::allow_tables_to_appear_in_same_query!(
    article_authors,
    article_cards,
    article_media,
    article_revisions,
    article_slugs,
    article_texts,
    article_tombstones,
    article_topics,
    articles,
    events,
    front_media,
    front_pins,
    fronts,
    live_entries,
    live_entry_revisions,
    login_failures,
    media,
    refresh_tokens,
    related_links,
    site_state,
    topic_heads,
    topics,
    translation_groups,
    users,
    webhook_attempts,
    webhook_messages,
    webhooks,
);
