/**
 * Text for Slack's mrkdwn (and a message's top-level `text`, which Slack also reads as mrkdwn):
 * `&`, `<` and `>` are its control characters, so text that carries what others chose (an end
 * user's email, an alert's message) must not open a link with any label or ping @channel / @here.
 * Sent as the entities Slack shows as those characters.
 */
export const escapeSlackText = (s: string) => s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
