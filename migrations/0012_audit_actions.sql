-- Audit action names follow one convention: "feature.what_happened", lowercase, past tense
-- (constants beside each feature's service). Rows written under the three older conventions
-- ("crisis.add", "rota slots add", "group created") are renamed to match.
UPDATE audit_log SET action = CASE action
    WHEN 'check-in schedule added' THEN 'checkin.schedule_added'
    WHEN 'check-in schedule paused' THEN 'checkin.schedule_paused'
    WHEN 'check-in schedule removed' THEN 'checkin.schedule_removed'
    WHEN 'check-in schedule resumed' THEN 'checkin.schedule_resumed'
    WHEN 'check-in schedule tested' THEN 'checkin.schedule_tested'
    WHEN 'crisis.add' THEN 'crisis.resource_added'
    WHEN 'crisis.remove' THEN 'crisis.resource_removed'
    WHEN 'crisis.watch' THEN 'crisis.watch_set'
    WHEN 'crisis.watch_channel.add' THEN 'crisis.channel_watched'
    WHEN 'crisis.watch_channel.remove' THEN 'crisis.channel_unwatched'
    WHEN 'crisis.watch_phrase.add' THEN 'crisis.phrase_added'
    WHEN 'crisis.watch_phrase.remove' THEN 'crisis.phrase_removed'
    WHEN 'export' THEN 'export.created'
    WHEN 'group archived' THEN 'group.archived'
    WHEN 'group created' THEN 'group.created'
    WHEN 'group edited' THEN 'group.edited'
    WHEN 'group member removed' THEN 'group.member_removed'
    WHEN 'group panel posted' THEN 'group.panel_posted'
    WHEN 'group reopened' THEN 'group.reopened'
    WHEN 'guidelines edited' THEN 'guidelines.edited'
    WHEN 'guidelines gate off' THEN 'guidelines.gate_off'
    WHEN 'guidelines gate on' THEN 'guidelines.gate_on'
    WHEN 'guidelines posted' THEN 'guidelines.posted'
    WHEN 'guidelines repost scheduled' THEN 'guidelines.repost_scheduled'
    WHEN 'guidelines repost stopped' THEN 'guidelines.repost_stopped'
    WHEN 'mydata.delete' THEN 'mydata.deleted'
    WHEN 'rota create' THEN 'rota.created'
    WHEN 'rota limits' THEN 'rota.limits_set'
    WHEN 'rota slots add' THEN 'rota.slots_added'
    WHEN 'rota slots remove' THEN 'rota.slots_removed'
    WHEN 'rota training grant' THEN 'rota.training_granted'
    WHEN 'rota training revoke' THEN 'rota.training_revoked'
    WHEN 'settings.set' THEN 'settings.changed'
END
WHERE action IN (
    'check-in schedule added',
    'check-in schedule paused',
    'check-in schedule removed',
    'check-in schedule resumed',
    'check-in schedule tested',
    'crisis.add',
    'crisis.remove',
    'crisis.watch',
    'crisis.watch_channel.add',
    'crisis.watch_channel.remove',
    'crisis.watch_phrase.add',
    'crisis.watch_phrase.remove',
    'export',
    'group archived',
    'group created',
    'group edited',
    'group member removed',
    'group panel posted',
    'group reopened',
    'guidelines edited',
    'guidelines gate off',
    'guidelines gate on',
    'guidelines posted',
    'guidelines repost scheduled',
    'guidelines repost stopped',
    'mydata.delete',
    'rota create',
    'rota limits',
    'rota slots add',
    'rota slots remove',
    'rota training grant',
    'rota training revoke',
    'settings.set'
);
