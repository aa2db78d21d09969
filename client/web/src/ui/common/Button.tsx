import type { ButtonHTMLAttributes, ReactNode } from "react";

type Variant = "primary" | "secondary" | "danger" | "ghost";

const VARIANTS: Record<Variant, string> = {
  primary: "bg-blue-600 text-white hover:bg-blue-500 border-blue-500",
  secondary: "bg-neutral-700 text-neutral-100 hover:bg-neutral-600 border-neutral-600",
  danger: "bg-red-600 text-white hover:bg-red-500 border-red-500",
  ghost: "bg-transparent text-neutral-300 hover:bg-neutral-700 border-transparent",
};

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: Variant;
  children?: ReactNode;
}

/** A small text button. */
export function Button({ variant = "secondary", className = "", type = "button", ...rest }: ButtonProps) {
  return (
    <button
      type={type}
      className={`inline-flex items-center justify-center gap-1 rounded border px-2.5 py-1 text-xs font-medium transition-colors disabled:cursor-not-allowed disabled:opacity-50 ${VARIANTS[variant]} ${className}`}
      {...rest}
    />
  );
}

export interface IconButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  /** required: the accessible name (also the tooltip unless `title` is given) */
  label: string;
  active?: boolean;
  children?: ReactNode;
}

/** A square icon-only button with an aria-label and a tooltip. */
export function IconButton({
  label,
  active = false,
  title,
  className = "",
  type = "button",
  ...rest
}: IconButtonProps) {
  return (
    <button
      type={type}
      aria-label={label}
      title={title ?? label}
      className={`inline-flex h-6 w-6 shrink-0 items-center justify-center rounded text-neutral-300 transition-colors hover:bg-neutral-700 hover:text-white disabled:cursor-not-allowed disabled:opacity-40 ${active ? "bg-neutral-700 text-white" : ""} ${className}`}
      {...rest}
    />
  );
}
