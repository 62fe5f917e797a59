import { describe, expect, it } from 'vitest';
import { csvField, csvLine } from './csv';

describe('CSV fields', () => {
  it('plain text and numbers are written as they are, null and undefined as empty', () => {
    expect(csvLine(['abc', 12, -3, '0.039000', null, undefined, true])).toBe('abc,12,-3,0.039000,,,true\r\n');
  });

  it('a field with a comma, a quote or a line break is quoted with its quotes doubled', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField('cr\rlf')).toBe('"cr\rlf"');
    expect(csvField('{"a":1,"b":"x"}')).toBe('"{""a"":1,""b"":""x""}"');
  });

  it('text a spreadsheet would run as a formula (= + - @ tab CR first) is prefixed with a quote', () => {
    expect(csvField('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvField('+1+1')).toBe("'+1+1");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t=1')).toBe("'\t=1");
    expect(csvField('\r=1')).toBe(`"'\r=1"`);
    // Only the first character counts: a formula sign later in the text is harmless.
    expect(csvField('a=b')).toBe('a=b');
  });

  it('numbers the export produced are data, not formulas: a negative delta stays a number', () => {
    expect(csvField(-5)).toBe('-5');
    expect(csvField(Number.NaN)).toBe('');
  });
});
