// PLACEHOLDER page: creator/PitchEditor
import { Card } from "../../ui";

export default function PitchEditor() {
  return <Card><h1>PitchEditor</h1></Card>;
}
