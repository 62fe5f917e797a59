/**
 * jsdom has <dialog> but not showModal/close: these open and close it the way the browser does
 * (the open attribute, a close event), without the top layer or focus trap it cannot model.
 */
export function polyfillDialog() {
  const proto = HTMLDialogElement.prototype;
  proto.showModal ??= function showModal(this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
  proto.close ??= function close(this: HTMLDialogElement) {
    this.removeAttribute('open');
    this.dispatchEvent(new Event('close'));
  };
}
