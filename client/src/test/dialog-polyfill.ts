/**
 * jsdom has <dialog> but not showModal/close: these open and close it the way the browser does
 * (the open attribute, a close event), without the top layer or focus trap it cannot model.
 */
export function polyfillDialog() {
  const proto = HTMLDialogElement.prototype;
  const define = (name: 'showModal' | 'close', value: (this: HTMLDialogElement) => void) => {
    if (!Reflect.has(proto, name)) Object.defineProperty(proto, name, { value, configurable: true, writable: true });
  };
  define('showModal', function showModal() {
    this.setAttribute('open', '');
  });
  define('close', function close() {
    this.removeAttribute('open');
    this.dispatchEvent(new Event('close'));
  });
}
