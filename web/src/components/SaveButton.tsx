// Save / Unsave a pitch for later (investors). Its state comes from GET /api/pitches/{id}/save;
// the button says what it is (aria-pressed) and a refusal is shown in words beside it.
import { errorMessage } from "../api/client";
import { usePitchSaved, useSaveToggle } from "../pages/account/data";
import { Alert, Button } from "../ui";

export function SaveButton({ pitchId, small = true }: { pitchId: number; small?: boolean }) {
  const state = usePitchSaved(pitchId, true);
  const toggle = useSaveToggle(pitchId);
  const saved = toggle.isPending ? toggle.variables : state.data?.saved === true;
  return (
    <>
      <Button
        small={small}
        variant="secondary"
        aria-pressed={saved}
        busy={state.isPending || toggle.isPending}
        onClick={() => toggle.mutate(!saved)}
        data-testid="save-pitch"
      >
        {saved ? "Saved" : "Save for later"}
      </Button>
      {(toggle.isError || state.isError) && <Alert>{errorMessage(toggle.error ?? state.error)}</Alert>}
    </>
  );
}
