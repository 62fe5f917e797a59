import { describe, expect, it } from 'vitest';
import { defaultRoutingText } from './default-routing';

describe('[ALERTS] the channels page states the routing the server applies without rules', () => {
  it('derives each channel’s sentence from the shared defaultChannelsFor', () => {
    expect(defaultRoutingText('slack')).toBe('Gets warning, error and critical alerts.');
    expect(defaultRoutingText('email')).toBe('Gets error and critical alerts.');
    expect(defaultRoutingText('sms')).toBe('Gets only the types whose rules add it.');
    expect(defaultRoutingText('in_app')).toBe('Gets every alert; always on.');
  });
});
