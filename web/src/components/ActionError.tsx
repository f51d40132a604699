// Why a button's call failed, beside the button.
export function ActionError({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <span className="error-text" role="alert">
      {error}
    </span>
  );
}
