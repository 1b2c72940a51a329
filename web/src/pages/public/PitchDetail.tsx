// PLACEHOLDER page: public/PitchDetail
import { Card } from "../../ui";

export default function PitchDetail() {
  return <Card><h1>PitchDetail</h1></Card>;
}
