/** A CSS module's default export: its class names, each mapped to the scoped name Vite generates. */
declare module '*.module.css' {
  const classes: Readonly<Record<string, string>>;
  export default classes;
}
