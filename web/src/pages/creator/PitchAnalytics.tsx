// PLACEHOLDER page: creator/PitchAnalytics
import { Card } from "../../ui";

export default function PitchAnalytics() {
  return (
    <Card>
      <h1>PitchAnalytics</h1>
    </Card>
  );
}
